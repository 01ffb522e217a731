/**
 * SHA-256 for a scan page without Web Crypto (opened over plain HTTP on a LAN). Built as a
 * module of its own and imported by the page only there, so pages on HTTPS never load it.
 */
export { sha256 } from "@noble/hashes/sha2.js";

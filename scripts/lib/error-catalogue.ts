/**
 * docs/error-codes.md, rendered from the one registry of error codes
 * (`server/src/errors/registry.ts`: status, messages and remedy of every code).
 * `npm run cli -- error-codes` rewrites the file; a test fails when the committed file and
 * the registry disagree.
 */
import { ERRORS, type ErrorCode, type ErrorDefinition } from "../../server/src/errors/registry.ts";

function row(code: string, entry: ErrorDefinition): string {
  return `| \`${code}\` | ${entry.status} | ${entry.en.replaceAll("|", "\\|")} | ${entry.zh} | ${entry.remedy} |`;
}

export function renderErrorCatalogue(): string {
  const codes = (Object.keys(ERRORS) as ErrorCode[]).sort((a, b) => a.localeCompare(b));
  const answered = codes.filter((code) => ERRORS[code].status !== 500 || code === "internal.error");
  const internal = codes.filter((code) => !answered.includes(code));
  const header = ["| code | status | English | 中文 | what to do |", "| --- | ---: | --- | --- | --- |"];
  const lines = [
    "# Error codes",
    "",
    "Every refusal of the HTTP API is an RFC 9457 `application/problem+json` body with a stable `code`,",
    "the HTTP `status`, and `message.zh` / `message.en`. Codes are never renamed or reused.",
    "This file is generated from `server/src/errors/registry.ts`",
    "(`npm run cli -- error-codes`); a test keeps it in step.",
    "",
    ...header,
    ...answered.map((code) => row(code, ERRORS[code])),
    "",
    "## Faults on our side",
    "",
    "These codes are logged with their details but never shown: the API answers each as `internal.error`.",
    "The verifier's codes reach the CLI and `verifyResolution`, which reports them as failed checks.",
    "",
    ...header,
    ...internal.map((code) => row(code, ERRORS[code])),
  ];
  return `${lines.join("\n")}\n`;
}

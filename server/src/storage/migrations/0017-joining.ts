/**
 * Joining and signing in (issue 15): public applications to join (reviewed by the county
 * bureau or the operator), the licence photos applicants upload before applying, people
 * inside organisations with what each may do, one-time sign-in links, and the device
 * sessions those links become (credentials that name the person they belong to).
 */
import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { Migration } from "kysely/migration";

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("application_licences")
    .addColumn("cid", "text", (col) => col.primaryKey())
    .addColumn("content_type", "text", (col) => col.notNull())
    .addColumn("size_bytes", "integer", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("applications")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("kind", "text", (col) => col.notNull())
    .addColumn("name_zh", "text", (col) => col.notNull())
    .addColumn("name_en", "text")
    .addColumn("uscc", "text", (col) => col.notNull())
    .addColumn("region_code", "text", (col) => col.notNull())
    // Personal data: never on chain, never on a public page; the reviewing bureau and the operator only.
    .addColumn("contact_json", "text", (col) => col.notNull())
    .addColumn("licence_cid", "text", (col) => col.references("application_licences.cid"))
    .addColumn("status", "text", (col) => col.notNull())
    // SHA-256 of the applicant's status secret (shown once, like an API token).
    .addColumn("secret_hash", "text", (col) => col.notNull())
    .addColumn("refusal_json", "text")
    .addColumn("organisation_id", "text", (col) => col.references("organisations.id"))
    .addColumn("decided_by", "text")
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("decided_at_ms", "bigint")
    .execute();
  // One pending application per credit code; decided ones are kept as history.
  await db.schema
    .createIndex("applications_pending_uscc")
    .on("applications")
    .column("uscc")
    .unique()
    .where(sql.ref("status"), "=", "pending")
    .execute();
  await db.schema.createIndex("applications_status").on("applications").columns(["status", "region_code"]).execute();

  await db.schema
    .createTable("members")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("organisation_id", "text", (col) => col.notNull().references("organisations.id"))
    .addColumn("name", "text", (col) => col.notNull())
    .addColumn("role", "text", (col) => col.notNull())
    .addColumn("capabilities_json", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("removed_at_ms", "bigint")
    .execute();
  await db.schema.createIndex("members_organisation").on("members").column("organisation_id").execute();

  await db.schema
    .createTable("sign_in_links")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("member_id", "text", (col) => col.notNull().references("members.id"))
    // SHA-256 of the 128-bit token: the token itself is only in the link.
    .addColumn("token_hash", "text", (col) => col.notNull().unique())
    .addColumn("created_by", "text", (col) => col.notNull())
    .addColumn("created_at_ms", "bigint", (col) => col.notNull())
    .addColumn("expires_at_ms", "bigint", (col) => col.notNull())
    .addColumn("used_at_ms", "bigint")
    .addColumn("revoked_at_ms", "bigint")
    .addColumn("credential_id", "text")
    .execute();
  await db.schema.createIndex("sign_in_links_member").on("sign_in_links").column("member_id").execute();

  await db.schema.alterTable("credentials").addColumn("member_id", "text").execute();
  await db.schema.createIndex("credentials_member").on("credentials").column("member_id").execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("credentials_member").execute();
  await db.schema.alterTable("credentials").dropColumn("member_id").execute();
  await db.schema.dropTable("sign_in_links").execute();
  await db.schema.dropTable("members").execute();
  await db.schema.dropTable("applications").execute();
  await db.schema.dropTable("application_licences").execute();
}

export const joining: Migration = { up, down };

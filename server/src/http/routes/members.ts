/**
 * People inside an organisation, their sign-in links and device sessions; and the public
 * exchange of a link for a session. Writes need the `members` capability (checked with the
 * other capabilities when the caller is authenticated); reads of people need it too.
 */
import { Router, type Request } from "express";

import { AppError } from "../../errors/app-error.ts";
import { chinaIsoTime } from "../../domain/china-time.ts";
import { qrSvg } from "../../labels/qr.ts";
import { signInPdf } from "../../labels/sign-in-pdf.ts";
import { ANONYMOUS, type ServiceContext } from "../../services/context.ts";
import {
  addMember,
  deleteMember,
  memberRequest,
  newSignInLink,
  peopleOf,
  revokeSession,
  signOut,
  type IssuedSignInLink,
} from "../../services/members.ts";
import { signIn, signInRequest } from "../../services/sign-in.ts";
import type { Credential } from "../../storage/credentials.ts";
import type { Member } from "../../storage/members.ts";
import { principalOf, requireRole } from "../auth.ts";
import { perAddress, publicLimits, type PublicLimits } from "./public-limits.ts";
import { organisationView } from "./organisations.ts";
import { originOf } from "./origin.ts";

/** The link with its QR code (SVG), to print or show: the only time the token is seen. */
export async function signInLinkView(issued: IssuedSignInLink) {
  return {
    id: issued.link.id,
    url: issued.url,
    expiresAt: new Date(issued.link.expiresAtMs).toISOString(),
    qrSvg: await qrSvg(issued.url, { errorCorrectionLevel: "M" }),
  };
}

function memberView(member: Member) {
  return {
    id: member.id,
    name: member.name,
    role: member.role,
    capabilities: member.capabilities,
    createdAt: new Date(member.createdAtMs).toISOString(),
  };
}

function sessionView(credential: Credential) {
  return {
    id: credential.id,
    device: credential.label,
    createdAt: new Date(credential.createdAtMs).toISOString(),
    expiresAt: credential.expiresAtMs === null ? null : new Date(credential.expiresAtMs).toISOString(),
    lastUsedAt: credential.lastUsedAtMs === null ? null : new Date(credential.lastUsedAtMs).toISOString(),
  };
}

const ANY_ORGANISATION = requireRole("admin", "regulator", "cooperative", "actor");

/** A person's session reads people only with `members`, as it writes them. */
function requireMembersCapability(req: Request): void {
  const capabilities = principalOf(req).capabilities;
  if (capabilities != null && !capabilities.includes("members")) throw new AppError("member.capability_missing");
}

export function membersRouter(ctx: ServiceContext, limits: PublicLimits = publicLimits(600)): Router {
  const router = Router();
  // Each guess costs a request: 128-bit tokens make guessing hopeless, the limit keeps it quiet.
  const signInLimit = perAddress(limits.signIns, 10 * 60_000);

  router.post("/api/v1/sign-in", signInLimit, async (req, res) => {
    const request = signInRequest.parse(req.body);
    const result = await signIn(ctx, { principal: ANONYMOUS, requestId: req.id }, request);
    res.setHeader("cache-control", "no-store");
    res.status(201).json({
      session: { ...sessionView(result.credential), token: result.token },
      member: memberView(result.member),
      organisation: organisationView(result.organisation),
    });
  });

  router.delete("/api/v1/me/session", ANY_ORGANISATION, async (req, res) => {
    await signOut(ctx, originOf(req));
    res.status(204).end();
  });

  router.get("/api/v1/organisations/:id/members", ANY_ORGANISATION, async (req, res) => {
    requireMembersCapability(req);
    const people = await peopleOf(ctx, principalOf(req), String(req.params.id));
    res.setHeader("cache-control", "no-store");
    res.json({
      members: people.map((person) => ({
        ...memberView(person.member),
        sessions: person.sessions.map(sessionView),
        openLinks: person.links.map((link) => ({ id: link.id, expiresAt: new Date(link.expiresAtMs).toISOString() })),
      })),
    });
  });

  router.post("/api/v1/organisations/:id/members", ANY_ORGANISATION, async (req, res) => {
    const member = await addMember(ctx, originOf(req), String(req.params.id), memberRequest.parse(req.body));
    res.status(201).json({ member: memberView(member) });
  });

  router.delete("/api/v1/organisations/:id/members/:memberId", ANY_ORGANISATION, async (req, res) => {
    await deleteMember(ctx, originOf(req), String(req.params.id), String(req.params.memberId));
    res.status(204).end();
  });

  router.post("/api/v1/organisations/:id/members/:memberId/sign-in-links", ANY_ORGANISATION, async (req, res) => {
    const issued = await newSignInLink(ctx, originOf(req), String(req.params.id), String(req.params.memberId));
    res.setHeader("cache-control", "no-store");
    // `Accept: application/pdf`: the link as an A6 sheet to print, its QR code large.
    if (req.accepts(["application/json", "application/pdf"]) === "application/pdf") {
      const pdf = await signInPdf({
        organisation: issued.organisation,
        person: issued.person,
        url: issued.url,
        expiresAt: chinaIsoTime(issued.link.expiresAtMs).slice(0, 16).replace("T", " "),
      });
      res.status(201).type("application/pdf").setHeader("content-disposition", 'attachment; filename="sign-in.pdf"');
      res.send(pdf);
      return;
    }
    res.status(201).json({ signIn: await signInLinkView(issued) });
  });

  router.delete(
    "/api/v1/organisations/:id/members/:memberId/sessions/:credentialId",
    ANY_ORGANISATION,
    async (req, res) => {
      await revokeSession(
        ctx,
        originOf(req),
        String(req.params.id),
        String(req.params.memberId),
        String(req.params.credentialId),
      );
      res.status(204).end();
    },
  );

  return router;
}

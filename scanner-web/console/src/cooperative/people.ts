/**
 * People of the cooperative (issue 15), for its chair: add a person with what she may do,
 * print a person's one-time sign-in QR code (scanned with the phone, no password), see each
 * person's signed-in phones and sign one out at once (a lost phone).
 */
import type { Pair } from "../shared/text.ts";
import { pick } from "../shared/text.ts";
import { failureText, flash, h } from "../shared/ui.ts";
import { flashRegion, render, state } from "./state.ts";

const P = {
  title: ["人员", "People"],
  add: ["添加人员", "Add a person"],
  name: ["姓名", "Name"],
  batches: ["登记批次、合格证", "Register batches, certificates"],
  events: ["记录农事、运输等环节", "Record events and shipments"],
  members: ["管理人员", "Manage people"],
  chair: ["负责人", "Chair"],
  member: ["成员", "Member"],
  qr: ["打印登录二维码", "Print a sign-in QR code"],
  qrHelp: [
    "用手机相机扫描即可登录，72 小时内有效，只能用一次。",
    "Scan it with the phone's camera to sign in: valid 72 hours, once.",
  ],
  print: ["打印", "Print"],
  phones: ["已登录的手机", "Signed-in phones"],
  noPhones: ["尚未登录", "Not signed in yet"],
  signOutPhone: ["退出该手机", "Sign this phone out"],
  signedOut: ["该手机已退出登录。", "That phone is signed out."],
  added: ["已添加。", "Added."],
  lastUsed: ["最近使用", "Last used"],
} as const satisfies Record<string, Pair>;

const p = (key: keyof typeof P): string => pick(P[key], state.lang);

interface Person {
  id: string;
  name: string;
  role: "chair" | "member";
  capabilities: string[];
  sessions: { id: string; device: string; lastUsedAt: string | null }[];
}

let people: Person[] | null = null;
let shownQr: { memberId: string; url: string; qrSvg: string } | null = null;

function capabilityText(capability: string): string {
  return capability === "batches" || capability === "events" || capability === "members" ? p(capability) : capability;
}

function organisationPath(): string {
  return `/api/v1/organisations/${state.me?.organisation?.id ?? ""}`;
}

async function loadPeople(): Promise<void> {
  if (state.api === null) return;
  try {
    people = (await state.api.get<{ members: Person[] }>(`${organisationPath()}/members`)).members;
  } catch (error) {
    people = [];
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  render();
}

async function act(work: () => Promise<void>, done?: string): Promise<void> {
  try {
    await work();
    if (done !== undefined) flash(flashRegion, "ok", done);
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  await loadPeople();
}

function addForm(): HTMLElement {
  const name = h("input", { name: "name", required: "", maxlength: "100" });
  const boxes = (["batches", "events", "members"] as const).map((capability) => {
    const box = h("input", { type: "checkbox", name: capability, value: capability });
    if (capability === "events") box.checked = true;
    return { capability, box };
  });
  const form = h(
    "form",
    { class: "card", "data-testid": "add-person" },
    h("h2", {}, p("add")),
    h("label", {}, p("name"), name),
    ...boxes.map(({ capability, box }) => h("label", { class: "check" }, box, p(capability))),
    h("button", { type: "submit", class: "primary big" }, p("add")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const api = state.api;
    if (api === null) return;
    void act(async () => {
      await api.json(`${organisationPath()}/members`, {
        method: "POST",
        body: { name: name.value.trim(), capabilities: boxes.filter((b) => b.box.checked).map((b) => b.capability) },
      });
      name.value = "";
    }, p("added"));
  });
  return form;
}

function personCard(person: Person): HTMLElement {
  const qrButton = h("button", { type: "button", class: "big", "data-action": "sign-in-qr" }, p("qr"));
  qrButton.addEventListener("click", () => {
    const api = state.api;
    if (api === null) return;
    void act(async () => {
      const { signIn } = (
        await api.json<{ signIn: { url: string; qrSvg: string } }>(
          `${organisationPath()}/members/${person.id}/sign-in-links`,
          { method: "POST", body: {} },
        )
      ).body;
      shownQr = { memberId: person.id, url: signIn.url, qrSvg: signIn.qrSvg };
    });
  });
  const card = h(
    "section",
    { class: "card person", "data-member-id": person.id },
    h("h2", {}, person.name, " ", h("span", { class: "badge" }, p(person.role))),
    h("p", { class: "help" }, person.capabilities.map((capability) => capabilityText(capability)).join("、")),
    qrButton,
  );
  if (shownQr?.memberId === person.id) {
    const print = h("button", { type: "button", class: "primary" }, p("print"));
    print.addEventListener("click", () => {
      window.print();
    });
    card.append(
      h(
        "div",
        { class: "sign-in-sheet", "data-testid": "sign-in-qr" },
        h("img", {
          class: "qr",
          alt: shownQr.url,
          src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(shownQr.qrSvg)}`,
        }),
        h("p", {}, person.name),
        h("p", { class: "help" }, p("qrHelp")),
        h("p", { class: "help" }, h("code", { "data-testid": "sign-in-url" }, shownQr.url)),
        h("div", { class: "actions no-print" }, print),
      ),
    );
  }
  card.append(h("h3", {}, p("phones")));
  if (person.sessions.length === 0) card.append(h("p", { class: "help" }, p("noPhones")));
  for (const session of person.sessions) {
    const out = h("button", { type: "button", class: "danger", "data-action": "revoke-session" }, p("signOutPhone"));
    out.addEventListener("click", () => {
      const api = state.api;
      if (api === null) return;
      void act(async () => {
        await api.fetch(`${organisationPath()}/members/${person.id}/sessions/${session.id}`, { method: "DELETE" });
      }, p("signedOut"));
    });
    card.append(
      h(
        "div",
        { class: "row", "data-session-id": session.id },
        h("span", {}, session.device),
        h(
          "span",
          { class: "help" },
          session.lastUsedAt === null ? "" : `${p("lastUsed")} ${session.lastUsedAt.slice(0, 10)}`,
        ),
        out,
      ),
    );
  }
  return card;
}

export function peopleView(): HTMLElement {
  if (people === null) {
    people = [];
    void loadPeople();
  }
  return h("div", { "data-testid": "people" }, h("h1", {}, p("title")), addForm(), ...people.map(personCard));
}

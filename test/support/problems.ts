/** What the API tests expect of a refusal: an RFC 9457 problem with its status, stable code and a zh/en message. */
import assert from "node:assert/strict";

export interface Problem {
  code: string;
  detail?: string;
  message: { zh: string; en: string };
}

export async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8");
  const problem = JSON.parse(text) as Problem;
  assert.equal(problem.code, code, text);
  assert.ok(problem.message.zh.length > 0 && problem.message.en.length > 0, text);
  return problem;
}

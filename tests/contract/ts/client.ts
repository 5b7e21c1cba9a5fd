// A web front end's client for Descent, typed only by what openapi-typescript generated from
// the live /openapi.json ("descent-api": tsconfig.json maps it to generated/api.d.ts; the test
// maps it to a fresh copy). tests/contract/test_typescript_client.py runs `tsc --noEmit` on it.
// Each line marked @ts-expect-error must NOT type-check: a schema that loosens (a status that
// is a plain string, an untyped error body, FastAPI's {detail: [{loc, msg}]}) fails the check.
import type { components, paths } from "descent-api";

type JsonOf<R> = R extends { content: { "application/json": infer Body } } ? Body : never;
type ProblemOf<R> = R extends { content: { "application/problem+json": infer Body } }
  ? Body
  : never;
// true only for a type that is exactly the schema's Problem: never and unknown are not.
type IsProblem<T> = [T] extends [never] ? false : unknown extends T ? false : T extends Problem ? true : false;

export type Problem = components["schemas"]["Problem"];
export type JobSpec = paths["/v1/jobs"]["post"]["requestBody"]["content"]["application/json"];
export type Job = JsonOf<paths["/v1/jobs/{job_id}"]["get"]["responses"][200]>;
export type Submitted = JsonOf<paths["/v1/jobs"]["post"]["responses"][202]>;
type SubmittedHeaders = paths["/v1/jobs"]["post"]["responses"][202]["headers"];
type Predict = paths["/v1/models/{model_id}/predict"]["post"];
export type Instances = Predict["requestBody"]["content"]["application/json"];
export type Answer = JsonOf<Predict["responses"][200]>;

// The refusals a front end shows are the one Problem shape, whatever the route.
const spec422: IsProblem<ProblemOf<paths["/v1/jobs"]["post"]["responses"][422]>> = true;
const job404: IsProblem<ProblemOf<paths["/v1/jobs/{job_id}"]["get"]["responses"][404]>> = true;
const cancel409: IsProblem<ProblemOf<paths["/v1/jobs/{job_id}/cancel"]["post"]["responses"][409]>> =
  true;
const predict413: IsProblem<ProblemOf<Predict["responses"][413]>> = true;
const list401: IsProblem<ProblemOf<paths["/v1/jobs"]["get"]["responses"][401]>> = true;
export const refusals = [spec422, job404, cancel409, predict413, list401];

export class DescentError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export class Descent {
  constructor(
    readonly base: string,
    readonly key: string,
  ) {}

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(this.base + path, {
      ...init,
      headers: { authorization: `Bearer ${this.key}`, "content-type": "application/json" },
    });
    if (!response.ok) throw new DescentError((await response.json()) as Problem);
    return (await response.json()) as T;
  }

  submit(spec: JobSpec): Promise<Submitted> {
    return this.call<Submitted>("/v1/jobs", { method: "POST", body: JSON.stringify(spec) });
  }

  job(id: string): Promise<Job> {
    return this.call<Job>(`/v1/jobs/${encodeURIComponent(id)}`);
  }

  predict(modelId: string, instances: Instances): Promise<Answer> {
    const path = `/v1/models/${encodeURIComponent(modelId)}/predict`;
    return this.call<Answer>(path, { method: "POST", body: JSON.stringify(instances) });
  }
}

// Where to follow a submitted job: a documented header is a string, an undocumented one unknown.
export function followAt(headers: SubmittedHeaders): string | undefined {
  return headers.Location;
}

// Fields with a server default stay optional in the input type: a form sends what the user
// chose, in the README's shorthands.
export const quickSpec: JobSpec = {
  name: "from a front end",
  dataset: { name: "mnist", limit: 500, validation: 0.1 },
  model: { preset: "dense" },
  optimizer: "adam",
  epochs: 1,
};

export function describe(job: Job): string {
  switch (job.status) {
    case "queued":
      return "waiting for a worker";
    case "running":
      return "training";
    case "cancelling":
      return "stopping";
    case "succeeded":
      return `done: model ${job.model_id ?? "(none)"}`;
    case "failed":
      return `failed: ${job.error ?? "no reason given"}`;
    case "cancelled":
      return "cancelled";
    default: {
      const unhandled: never = job.status; // the status set is closed: each one is handled above
      return unhandled;
    }
  }
}

export function finished(job: Job): boolean {
  // @ts-expect-error "suceeded" is not a status: a typo must not compile
  const typo = job.status === "suceeded";
  return typo || job.status === "succeeded" || job.status === "failed" || job.status === "cancelled";
}

export function labels(answer: Answer): string[] {
  return answer.predictions.map((prediction) => prediction.label ?? "?");
}

// What a form shows next to the field a refusal names, and the code it branches on.
export function explain(problem: Problem): { field: string; text: string; retry: boolean } {
  const first = problem.errors?.[0];
  const text = first?.fix ?? problem.fix ?? problem.detail ?? problem.title;
  const retry = problem.code === "unavailable";
  return { field: first?.field ?? "", text, retry };
}

export function fastApiShape(problem: Problem): unknown {
  // @ts-expect-error detail is a sentence, not FastAPI's [{loc, msg}]
  return problem.detail[0].loc;
}

export async function story(api: Descent, digits: number[][][]): Promise<string[]> {
  try {
    const submitted = await api.submit(quickSpec);
    let job = await api.job(submitted.id);
    while (!finished(job)) job = await api.job(submitted.id);
    if (job.status !== "succeeded" || job.model_id == null) return [describe(job)];
    return labels(await api.predict(job.model_id, { instances: digits }));
  } catch (error) {
    if (error instanceof DescentError) return [explain(error.problem).text];
    throw error;
  }
}

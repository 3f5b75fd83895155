/** Why one endpoint failed one request. */
export type EndpointFailureKind = "http" | "timeout" | "network" | "malformed" | "oversize";

/** One endpoint's failure; `retryable` says whether the same endpoint may be tried again. */
export class EndpointError extends Error {
  override name = "EndpointError";
  constructor(
    readonly endpoint: string,
    readonly kind: EndpointFailureKind,
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(`${endpoint}: ${message}`, options);
  }

  get retryable(): boolean {
    if (this.kind === "oversize") return false;
    if (this.kind === "http") return this.status === undefined || this.status >= 500 || this.status === 408 || this.status === 429;
    return true;
  }
}

/** The request names a model this provider does not serve: bad input, never retried. */
export class UnknownModelError extends Error {
  override name = "UnknownModelError";
  constructor(readonly model: string) {
    super(`No endpoints configured for model "${model}"`);
  }
}

/** Every endpoint of the model failed; `failures` keeps each cause, in order. */
export class AllEndpointsFailedError extends Error {
  override name = "AllEndpointsFailedError";
  constructor(
    readonly model: string,
    readonly failures: readonly EndpointError[],
  ) {
    super(`All ${failures.length} attempts for model "${model}" failed: ${failures.map((f) => f.message).join("; ")}`);
  }

  /** True when every endpoint answered but only with output over the cap: retrying later will not help. */
  get onlyOversizeOutput(): boolean {
    return this.failures.length > 0 && this.failures.every((f) => f.kind === "oversize");
  }
}

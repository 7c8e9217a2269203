// The API calls, same origin (hosting rewrites /api/* to the functions).

export class ApiError extends Error {}

/** A JSON call with the caller's ID token; the answer's JSON, or ApiError with the API's reason. */
async function call(method, path, body, idToken) {
  const headers = { Authorization: `Bearer ${idToken}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("the server could not be reached; try again");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const reason = answer.error || `the request failed (HTTP ${response.status})`;
    // A 400 lists what is wrong with the input ("ends_at: must be after starts_at").
    const details = Array.isArray(answer.details) ? answer.details.filter((d) => typeof d === "string") : [];
    throw new ApiError(details.length ? `${reason}: ${details.join("; ")}` : reason);
  }
  return answer;
}

export const startWorkflow = (workflow, input, idToken) =>
  call("POST", "/api/start", { workflow, input }, idToken);

/** One vote: {request_id, outcome, status: "deciding" | "pending", tally}. */
export const decide = (requestId, outcome, comment, idToken) =>
  call("POST", "/api/decide", { request_id: requestId, outcome, comment }, idToken);

/** The requester withdraws a pending request: {request_id, status: "cancelled"}. */
export const cancel = (requestId, reason, idToken) =>
  call("POST", "/api/cancel", { request_id: requestId, reason }, idToken);

/** {delegation: mine or null, delegated_to_me: [...]}. */
export const getDelegations = (idToken) => call("GET", "/api/delegations", undefined, idToken);

/** Hand my approvals to `delegate` until `endsAt` (ISO 8601); the stored delegation. */
export const setDelegation = (delegate, endsAt, idToken) =>
  call("POST", "/api/delegations", { delegate, ends_at: endsAt }, idToken);

/** {deleted: true | false}. */
export const clearDelegation = (idToken) => call("DELETE", "/api/delegations", undefined, idToken);

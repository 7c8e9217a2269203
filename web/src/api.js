// The two API calls, same origin (hosting rewrites /api/* to the functions).

export class ApiError extends Error {}

/** POST JSON with the caller's ID token; the answer's JSON, or ApiError with the API's reason. */
export async function post(path, body, idToken) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${idToken}` },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError("the server could not be reached; try again");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(answer.error || `the request failed (HTTP ${response.status})`);
  }
  return answer;
}

export const startWorkflow = (workflow, input, idToken) =>
  post("/api/start", { workflow, input }, idToken);

export const decide = (requestId, outcome, comment, idToken) =>
  post("/api/decide", { request_id: requestId, outcome, comment }, idToken);

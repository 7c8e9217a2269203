// The runtime config the web function serves: the Firebase web config in production,
// the local stack's Firestore emulator address when `make up` serves the page.

export async function loadConfig() {
  const response = await fetch("/__/approvals/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`the page's configuration did not load (HTTP ${response.status})`);
  return response.json();
}

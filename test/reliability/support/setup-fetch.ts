/**
 * For a suite's setup requests only (the document, keys, uploads), never for the requests a suite judges:
 * one more try when fetch fails without an answer. Under load a kept-alive socket that the dev server
 * closed as idle can be picked for the next request ("other side closed"); a CI run's fuzz lost its very
 * first request, the OpenAPI document, that way.
 */
export async function setupFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return fetch(url, init);
  }
}

/**
 * Every request to a GPU pool (dispatch, cancel, health probe). They carry the
 * dispatch token, and a dispatch carries signed URLs and the attempt's callback
 * secret: a redirect is never followed, since it could hand them to another host. The
 * 3xx answer itself comes back, and every caller treats it as a failure.
 */
export function fetchPool(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, redirect: "manual" });
}

export const isRedirect = (status: number) => status >= 300 && status < 400;

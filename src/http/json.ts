import { HttpRequestError, httpRequest, type HttpRequest, type HttpResponse } from './request.js';

/** An error code safe to quote from a response (`invalid_grant`, `AccessDeniedException`): no free text. */
export const SAFE_ERROR_CODE = /^[A-Za-z][A-Za-z0-9_.#:-]{0,80}$/;

/**
 * One exchange with a JSON endpoint (SSO portal, SSO-OIDC, Sign-In). A transport failure becomes the
 * caller's error through `fail(reason, cause)`, the reason short (`timeout`, `network ECONNREFUSED`) and
 * never quoting the request. `body` is the response parsed as a JSON object, or undefined when it is not one.
 */
export async function requestJson(
  request: HttpRequest,
  fail: (reason: string, cause: unknown) => Error,
): Promise<{ response: HttpResponse; body: Record<string, unknown> | undefined }> {
  let response: HttpResponse;
  try {
    response = await httpRequest(request);
  } catch (error) {
    const reason = error instanceof HttpRequestError ? `${error.kind}${error.code !== undefined ? ` ${error.code}` : ''}` : 'failed';
    throw fail(reason, error);
  }
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(response.body);
    body = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    body = undefined;
  }
  return { response, body };
}

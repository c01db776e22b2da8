// The status an audit row records for a request. `res.statusCode` is 200 until a handler sets
// another, so a request abandoned before its answer was written (the client went away, a timeout
// destroyed the socket) used to be audited as a success. Such requests get 499 (the client closed
// the request, as nginx names it) unless a status was already on the wire, which is then kept.
import type { ServerResponse } from 'node:http';

/** Status recorded for requests whose answer never completed (decision 0852). */
export const ABORTED_STATUS = 499;

export function auditStatus(res: Pick<ServerResponse, 'statusCode' | 'headersSent' | 'writableFinished'>): number {
  if (res.writableFinished) return res.statusCode;
  return res.headersSent ? res.statusCode : ABORTED_STATUS;
}

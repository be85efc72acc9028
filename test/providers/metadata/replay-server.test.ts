import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest, HttpRequestError } from '../../../src/http/request.js';
import { startReplayServer, type RecordedEvent, type ReplayServer } from '../../../src/testing/replay-server.js';

const servers: ReplayServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const request = (id: number, method: string, uri: string, headers: Record<string, string[]> = {}): RecordedEvent => ({
  connection_id: id,
  action: { Request: { request: { uri, method, headers } } },
});
const response = (id: number, status: number): RecordedEvent => ({
  connection_id: id,
  action: { Response: { response: { Ok: { status, headers: { 'content-length': ['999'], 'x-kept': ['yes'] } } } } },
});
const data = (id: number, d: { Utf8?: string; Base64?: string }): RecordedEvent => ({ connection_id: id, action: { Data: { data: d, direction: 'Response' } } });

describe('startReplayServer', () => {
  it('serves same-path exchanges in recorded order, decodes Base64, drops framing headers, reports leftovers', async () => {
    const events: RecordedEvent[] = [
      request(0, 'GET', 'http://169.254.169.254/a?x=1', { 'x-aws-ec2-metadata-token': ['tok'] }),
      response(0, 503),
      request(1, 'GET', 'http://169.254.169.254/a?x=1'),
      response(1, 200),
      data(1, { Base64: Buffer.from('second').toString('base64') }),
      request(2, 'POST', 'https://sts.amazonaws.com/'),
      { connection_id: 2, action: { Response: { response: { Err: 'connection reset' } } } },
      request(3, 'GET', 'http://169.254.169.254/never'),
      response(3, 200),
    ];
    const replay = await startReplayServer({ events });
    servers.push(replay);
    const first = await httpRequest({ url: `${replay.endpoint}/a?x=1`, headers: { 'x-aws-ec2-metadata-token': 'wrong' } });
    expect(first.status).toBe(503);
    const second = await httpRequest({ url: `${replay.endpoint}/a?x=1` });
    expect(second).toMatchObject({ status: 200, body: 'second' });
    expect(second.headers['x-kept']).toBe('yes');
    expect(second.headers['content-length']).toBe('6');
    const third = await httpRequest({ url: `${replay.endpoint}/a?x=1` });
    expect(third.status).toBe(501);
    await expect(httpRequest({ url: `${replay.endpoint}/`, method: 'POST', body: 'x' })).rejects.toBeInstanceOf(HttpRequestError);
    expect(replay.unmatched.map((r) => r.path)).toEqual(['/a?x=1']);
    expect(replay.headerMismatches).toEqual(['GET /a?x=1: x-aws-ec2-metadata-token expected "tok", got "wrong"']);
    expect(replay.remaining).toBe(1);
    expect(replay.requests.map((r) => r.exchange)).toEqual([0, 1, -1, 2]);
  });
});

import http from 'node:http';

/** An http.Agent that counts the connections it opens: proves a client sent through the agent it was given. */
export function countingAgent(): http.Agent & { readonly connections: number } {
  class CountingAgent extends http.Agent {
    connections = 0;
    override createConnection(...args: Parameters<http.Agent['createConnection']>) {
      this.connections += 1;
      return super.createConnection(...args);
    }
  }
  return new CountingAgent();
}

import { afterEach, describe, expect, it } from 'vitest';
import { fromContainerMetadata } from '../../src/providers/metadata/container.js';
import { countingAgent } from '../helpers/counting-agent.js';
import { startContainerServer, type ContainerServer } from '../../src/testing/container-server.js';

// From a mutant of `node bench/mutation.mjs metadata/http` left uncovered: the `agent` option.
const servers: ContainerServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('metadata http (mutation)', () => {
  it('sends through the agent it was given', async () => {
    const server = await startContainerServer();
    servers.push(server);
    const agent = countingAgent();
    const provider = fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: server.url }, agent, retryDelayMs: 0 });
    expect((await provider()).accessKeyId).toMatch(/^ASIA/);
    expect(agent.connections).toBe(1);
    agent.destroy();
  });
});

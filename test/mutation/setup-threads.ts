import { isMainThread } from 'node:worker_threads';

// Stryker's vitest runner runs tests in worker threads, where process.seteuid() exists but throws.
// Tests that switch uid (test/providers/sts/web-identity.test.ts) skip themselves when it is absent.
if (!isMainThread) (process as { seteuid?: unknown }).seteuid = undefined;

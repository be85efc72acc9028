export { createFakeClock, type FakeClock } from './fake-clock.js';
export { mockProvider, type MockProvider, type MockAnswer, type MockProviderOptions } from './mock-provider.js';

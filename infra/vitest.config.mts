import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One synth of the whole stack takes a few seconds (the first, with
    // module loading, ~5 s); the defaults (5 s / 10 s) are too tight on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Test files share one module graph per worker: loading aws-cdk-lib once
    // instead of once per file saves most of the run time. No test mutates a
    // shared stack (the canaries build their own app).
    isolate: false,
  },
});

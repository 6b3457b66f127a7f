/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] },
  testTimeout: 30000,
  // Loopback servers and child processes: a leaked handle is a bug, so fail loudly rather than hang.
  detectOpenHandles: false,
  forceExit: false,
};

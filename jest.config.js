/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  testTimeout: 30000,
  // After each file: no configured credential reached a response or a log line (see the file).
  setupFilesAfterEnv: ['<rootDir>/test/support/no-secrets.ts'],
  // Suites start real servers; two workers match the machine's two cores.
  maxWorkers: 2,
};

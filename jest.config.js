/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
    // The OTLP exporter loads node:http with import(), which jest's CommonJS sandbox refuses without
    // --experimental-vm-modules; compiled here to require, so the OTLP test runs in jest as it does in node.
    '/@opentelemetry/otlp-exporter-base/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@opentelemetry/exporter-trace-otlp-http/node_modules/)?@opentelemetry/otlp-exporter-base/)'],
  testTimeout: 30000,
  // After each file: no configured credential reached a response or a log line (see the file).
  setupFilesAfterEnv: ['<rootDir>/test/support/no-secrets.ts'],
  // Suites start real servers; two workers match the machine's two cores.
  maxWorkers: 2,
};

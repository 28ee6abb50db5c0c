/** Jest: TypeScript tests under test/, compiled by ts-jest to CommonJS. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  // integration tests need live brokers: tests/labextension/test_ts_client.py starts them
  // and sets DASF_TEST_INTEGRATION=1 with their URLs
  testPathIgnorePatterns: process.env.DASF_TEST_INTEGRATION ? [] : ['integration']
};

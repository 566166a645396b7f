/**
 * Jest: TypeScript tests under test/, compiled by ts-jest (type-checking is `tsc --noEmit` in `npm test`).
 * @kubernetes/client-node and the ESM-only packages it loads are compiled to CommonJS for Jest's module system.
 */
const ESM_PACKAGES = ["@kubernetes/client-node", "openid-client", "oauth4webapi", "jose"];
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
    "^.+\\.js$": ["ts-jest", { diagnostics: false, tsconfig: { allowJs: true, module: "commonjs", target: "es2022" } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join("|")})/)`],
  testTimeout: 60000,
  // Jest's default is one worker per core but one (a single worker here, on 2 cores); the suites
  // mostly wait on processes (sshd, etcd, kubectl, the API double), so three run side by side: on
  // 2 cores the whole run took 9 min 24 s and 9 min 51 s with three, about 12 min with two.
  maxWorkers: 3,
};

/**
 * The direction of rungraph's imports, checked by `npm run deps` (dependency-cruiser) in CI.
 *
 *   graph ──→ model ←── sources ──→ http          server composes all of them (and main.ts the server);
 *                ↑                                 store and sync (the run index, #9) sit beside sources;
 *          store, sync                             simulators are fake vendors, reached only by the demo.
 *
 * Every import counts, type-only ones too (a type is a dependency of the design even when the
 * compiler erases it). Rules match paths relative to the repository root. When a rule fires, fix
 * the import, not the rule: move the thing to the side that both can see. If a rule really is wrong,
 * change it here with its reason, in its own commit.
 */

/** The folders above the domain: the API and its composition. */
const UPPER = '^src/(server|graph)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'An import circle makes the modules in it one module: none can be read, tested or moved alone, and ' +
        'CommonJS hands one of them a half-initialised export at start-up. Move what both need to a third file.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'graph-speaks-only-model',
      comment:
        'The graph layer turns GraphQL into calls on the model (the read service, the Source interface); it must ' +
        'not know how the server is wired, which vendors exist, how HTTP is done, or where the run index keeps ' +
        'its data, so that the index (#9) can replace the live fan-out without touching a resolver.',
      severity: 'error',
      from: { path: '^src/graph/' },
      to: { path: '^src/(server|sources|http|simulators|store|sync)/' },
    },
    {
      name: 'model-is-the-centre',
      comment:
        'The domain depends on nothing of its own but itself (and Node built-ins): everything else depends on it. ' +
        'A database, an HTTP client or a GraphQL type in src/model would leak into every layer; put it in the ' +
        'layer that owns it (a store in src/store, a vendor call in src/sources). An npm package here needs a ' +
        'reason written into this rule.',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { pathNot: '^src/model/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'sources-do-not-know-the-api',
      comment:
        'A source turns vendor JSON into the model and back; it must work without the GraphQL server (the sync ' +
        'jobs of #9 call sources with no request), and never against a simulator: a simulator is for tests.',
      severity: 'error',
      from: { path: '^src/sources/' },
      to: { path: '^src/(server|graph|simulators|store|sync)/' },
    },
    {
      name: 'one-vendor-per-folder',
      comment:
        "A vendor folder knows only its own vendor. Something two vendors share belongs in src/sources/ (or src/http/), " +
        "written once, not borrowed from the other vendor's folder.",
      severity: 'error',
      from: { path: '^src/sources/([^/]+)/' },
      to: { path: '^src/sources/[^/]+/', pathNot: '^src/sources/$1/' },
    },
    {
      name: 'http-knows-no-vendor',
      comment:
        'src/http is the transport every source shares (agent, timeouts, retries, budgets, error mapping): it ' +
        'must not know a vendor, the API or the rest of the domain. From the model it may use only the error ' +
        'types it raises (model/errors.ts) and what a call carries (model/source.ts: Logger, call scope).',
      severity: 'error',
      from: { path: '^src/http/' },
      to: {
        path: ['^src/sources/[^/]+/', '^src/(server|graph|simulators|store|sync)/', '^src/model/'],
        pathNot: '^src/model/(errors|source)\\.ts$',
      },
    },
    {
      name: 'index-below-the-api',
      comment:
        'The run index (src/store: where runs are kept; src/sync: the jobs that fill it) serves the graph through ' +
        'the model, like the live fan-out does; it must not reach up into the server or the resolvers, or the ' +
        'composition root could no longer build it before the API.',
      severity: 'error',
      from: { path: '^src/(store|sync)/' },
      to: { path: [UPPER, '^src/simulators/'] },
    },
    {
      name: 'simulators-only-through-the-demo',
      comment:
        'The simulators are fake vendors for tests, benchmarks and the demo. The product may start them only ' +
        'through the demo entry point (src/simulators/demo.ts), so nothing else in src/ can come to depend on a fake.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/simulators/' },
      to: { path: '^src/simulators/', pathNot: '^src/simulators/demo\\.ts$' },
    },
    {
      name: 'only-main-starts-the-demo',
      comment:
        'The demo is a way to start the program, so only the program\'s entry point (src/main.ts) starts it; the ' +
        'server, the graph and the sources never import a simulator, not even the demo.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/main\\.ts$', '^src/simulators/'] },
      to: { path: '^src/simulators/demo\\.ts$' },
    },
    {
      name: 'simulators-are-outside-vendors',
      comment:
        "A simulator is a stand-in for a vendor's server, written from the vendor's documentation: importing " +
        "rungraph's own code would let a client's mistake shape the fake that is meant to catch it. A simulator " +
        'imports only its own folder and the shared harness (src/simulators/harness.ts).',
      severity: 'error',
      from: { path: '^src/simulators/', pathNot: '^src/simulators/demo\\.ts$' },
      to: { path: '^src/', pathNot: ['^src/simulators/harness\\.ts$', '^src/simulators/[^/]+/'] },
    },
    {
      name: 'one-vendor-per-simulator',
      comment: "A vendor's simulator knows only its own vendor; what simulators share is in harness.ts.",
      severity: 'error',
      from: { path: '^src/simulators/([^/]+)/' },
      to: { path: '^src/simulators/[^/]+/', pathNot: '^src/simulators/$1/' },
    },
    {
      name: 'demo-wires-configs-only',
      comment:
        "The demo starts the simulators and writes the source configs that point at them (the configs' types come " +
        'from src/sources/); the caller builds the gateway. It must not reach into the server, the graph, the ' +
        'transport or a vendor client.',
      severity: 'error',
      from: { path: '^src/simulators/demo\\.ts$' },
      to: { path: ['^src/(server|graph|http|store|sync)/', '^src/sources/[^/]+/'] },
    },
    {
      name: 'src-not-to-tests',
      comment: 'Product code must not depend on tests, test support or the benchmarks; they depend on it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'An import that resolves to no file breaks at run time, and an import the tool cannot follow is one it ' +
        'cannot check: either fix the path or, for a package, add it to package.json.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-dev-dependency',
      comment:
        'What the gateway runs must be in "dependencies", or a production install (npm ci --omit=dev) fails at ' +
        'start-up. (The explorer\'s browser code, bundled at build time, is not cruised: see options.exclude.)',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript compiler API for the tool to use; @swc/core (already here for
    // jest) parses .ts and keeps type-only imports, which the rules above count on purpose.
    parser: 'swc',
    moduleSystems: ['cjs', 'es6'],
    doNotFollow: { path: 'node_modules' },
    // The explorer's browser code (JSX, bundled by esbuild, src/server/explorer/tsconfig.json checks
    // it) imports only npm packages and its .graphql file; dependency-cruiser's swc parser reads no JSX.
    exclude: { path: '^src/server/explorer/explorer\\.tsx$' },
    // Generated code is checked too: src/graph/__generated__ imports what the resolvers see.
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.cjs', '.mjs', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};

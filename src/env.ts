/**
 * Imported first by main.ts, before graphql-js loads: graphql-js reads NODE_ENV once, and outside
 * `production` every type check in execution also compares constructor names (a development aid
 * that costs a large share of a big query's CPU time). An operator's own NODE_ENV is kept; every
 * Apollo behaviour that NODE_ENV would change (introspection, stack traces, signal handling) is
 * set explicitly in server/app.ts.
 */
process.env.NODE_ENV ??= 'production';

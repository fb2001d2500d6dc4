// Imports esbuild understands in the explorer's browser bundle (see scripts/build-explorer.mjs).
declare module '*.css';
declare module '*.graphql' {
  const text: string;
  export default text;
}

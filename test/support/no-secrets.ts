/**
 * Runs after every test file (jest setupFilesAfterEnv): no configured credential of any stack the
 * file started may appear in a response the tests received or a log line the gateway wrote.
 */
import { watched } from './stack';

afterAll(() => {
  for (const { secrets, logs, responses } of watched.splice(0)) {
    const haystack = [...logs, ...responses];
    // The report names where a secret leaked without printing the secret again.
    const leaks = secrets.flatMap((secret) => haystack.filter((line) => line.includes(secret)).map((line) => line.split(secret).join('[SECRET]').slice(0, 300)));
    expect(leaks).toEqual([]);
  }
});

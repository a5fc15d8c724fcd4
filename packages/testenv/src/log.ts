/** Progress sink. Progress goes to stderr so stdout stays parseable for callers. */
export type Logger = (message: string) => void;

export const silentLogger: Logger = () => {};

export const stderrLogger: Logger = (message) => {
  process.stderr.write(`[testenv] ${message}\n`);
};

// vitest globalSetup of the `webkit` project: Xvfb + WebKitWebDriver on the port vitest.config.ts chose.
// vitest runs global teardowns before the browser provider deletes its WebDriver session, so the
// driver is stopped when the vitest process exits instead (a synchronous SIGTERM to each child).
import { startWebKitDriver } from './webkit.js';

export default async function setup(): Promise<void> {
  const port = Number(process.env.TESSERA_WEBKIT_PORT);
  if (!port) throw new Error('TESSERA_WEBKIT_PORT is not set (vitest.config.ts sets it for the webkit project)');
  const driver = await startWebKitDriver(port);
  process.once('exit', () => driver.kill());
}

// $BROWSER for vitest's preview provider (vitest.config.ts, firefox project): Vite runs
// `node open-firefox.js ...vitest-args url`; start headless Firefox on a fresh profile under
// $TESSERA_FIREFOX_DIR and record its pid there (tests/helpers/firefox.ts kills it when vitest exits).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const url = process.argv[process.argv.length - 1];
const dir = process.env.TESSERA_FIREFOX_DIR;
const binary = process.env.TESSERA_FIREFOX_BIN;
if (!dir || !binary || !/^https?:\/\//.test(url)) { console.error('open-firefox.js: needs TESSERA_FIREFOX_DIR, TESSERA_FIREFOX_BIN and a URL'); process.exit(2); }
const profile = join(dir, `profile-${process.pid}`);
mkdirSync(profile, { recursive: true });
writeFileSync(join(profile, 'user.js'), process.env.TESSERA_FIREFOX_USERJS ?? '');
const ff = spawn(binary, ['--headless', '--no-remote', '--profile', profile, url], { stdio: 'ignore', detached: true, env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_NO_REMOTE: '1' } });
writeFileSync(join(dir, `${ff.pid}.pid`), String(ff.pid));
ff.unref();

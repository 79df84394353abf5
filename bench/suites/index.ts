// Registry of benchmark suites. Each kernel family adds its suite here.
import type { Suite } from '../lib/context.js';
import { f16Suite } from './f16.js';
import { denseSuite } from './dense.js';
import { mobilenetSuite } from './mobilenet.js';
import { threadsSuite } from './threads.js';

export const SUITES: Suite[] = [f16Suite, denseSuite, mobilenetSuite, threadsSuite];

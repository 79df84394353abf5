// Registry of benchmark suites. Each kernel family adds its suite here.
import type { Suite } from '../lib/context.js';
import { attentionSuite } from './attention.js';
import { denseSuite } from './dense.js';
import { f16Suite } from './f16.js';
import { mobilenetSuite } from './mobilenet.js';
import { sparseSuite } from './sparse.js';
import { threadsSuite } from './threads.js';

export const SUITES: Suite[] = [f16Suite, denseSuite, sparseSuite, attentionSuite, mobilenetSuite, threadsSuite];

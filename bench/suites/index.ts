// Registry of benchmark suites. Each kernel family adds its suite here.
import type { Suite } from '../lib/context.js';
import { f16Suite } from './f16.js';
import { attentionSuite } from './attention.js';

export const SUITES: Suite[] = [f16Suite, attentionSuite];

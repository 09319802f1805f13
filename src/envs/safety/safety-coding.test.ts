import { describe } from 'node:test';
import { safetyValidationTests } from './test-support.ts';

describe('safety suite (coding)', () => {
  safetyValidationTests('coding');
});

// The shipped unit is hardened (exposure at most 1.5) and runs node as Type=notify.
import path from 'node:path';
import { testHardenedUnit } from '../../../test/helpers/unit-security.js';

testHardenedUnit(path.join(__dirname, '..', 'hello.service'));

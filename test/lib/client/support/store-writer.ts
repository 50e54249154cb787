/**
 * Child process for the kill -9 test: saves a growing store to argv[2] in a loop, as fast as it can,
 * printing "saved <n>" after each completed save, until it is killed.
 */
import { saveStore } from '../../../../lib/client/persistence';
import { ObjectStore } from '../../../../lib/client/store';
import { defaultModel } from '../../../../lib/model/registry';

async function main(): Promise<void> {
  const file = process.argv[2];
  const store = new ObjectStore(defaultModel);
  for (let n = 1; ; n++) {
    // Big enough that a write takes several syscalls: 200 APN instances with a long name.
    for (let i = 0; i < 200; i++) store.setValue(11, i, 0, `profile-${n}-${i}-`.padEnd(200, 'x'));
    store.setValue(3, 0, 2, `serial-${n}`);
    await saveStore(file, 'writer', store);
    process.stdout.write(`saved ${n}\n`);
  }
}

void main();

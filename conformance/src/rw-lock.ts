/**
 * A readers-writer lock for cases: ordinary cases share it, a case that
 * moves the target's clock holds it alone. Writers are preferred so an
 * exclusive case is not starved by a stream of shared ones.
 */
export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly waiting: { exclusive: boolean; wake: () => void }[] = [];

  async acquire(exclusive: boolean): Promise<() => void> {
    if (this.canEnter(exclusive) && this.waiting.length === 0) {
      this.enter(exclusive);
    } else {
      await new Promise<void>((wake) => this.waiting.push({ exclusive, wake }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (exclusive) this.writer = false;
      else this.readers--;
      this.pump();
    };
  }

  private canEnter(exclusive: boolean): boolean {
    return exclusive ? !this.writer && this.readers === 0 : !this.writer;
  }

  private enter(exclusive: boolean): void {
    if (exclusive) this.writer = true;
    else this.readers++;
  }

  private pump(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (!this.canEnter(next.exclusive)) return;
      this.waiting.shift();
      this.enter(next.exclusive);
      next.wake();
      if (next.exclusive) return;
    }
  }
}

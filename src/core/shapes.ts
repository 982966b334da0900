/**
 * Keeps V8's hidden classes (maps) of the library alive between runs.
 *
 * An object's map is reached from its constructor only through weak transitions, so when a run ends
 * and every hub, greenlet, socket and segment of it dies, the next full GC frees those maps and throws
 * away all optimised code that embeds them (`--trace-deopt` shows "reason: weak objects"). A program
 * that runs hubs one after another — tests, `geventjs explore` (a fresh hub per seed), the benchmarks —
 * would re-optimise the hub and the network after every major GC.
 *
 * So each layer registers a maker that builds a few unused objects of its classes, through the same
 * constructors and in the same field order as a run does; objects built later get the same maps. The
 * makers run again when a hub closes, so the maps they hold are the current ones (a run may have
 * generalised a field's representation): those of the layers every run uses, and the keeper hub of the
 * closing hub's class (a hub costs tens of microseconds to build: `explore` closes one per seed). Only
 * the library's own classes are built this way: a user's subclass of Hub may do anything in its
 * constructor, and the library never constructs one behind the user's back. A keeper hub takes no hub
 * id and never runs.
 * @internal
 */

interface Maker {
  make: () => unknown;
  /** The hub class whose closing renews it; null: renewed when any hub closes. */
  hubClass: Function | null;
}
const makers: Maker[] = [];
let kept: unknown[] = [];
let renewing = false;

/**
 * Registers `make`, which builds the objects that keep one layer's maps alive: a keeper hub of
 * `hubClass` (renewed when a hub of that class closes), or objects of a layer (renewed at every close).
 * @internal
 */
export function keepShapes(make: () => unknown, hubClass: Function | null = null): void {
  makers.push({ make, hubClass });
  kept.push(null);
}

/** Builds the keepers again when a hub of class `closing` closes; the previous ones are let go. @internal */
export function renewShapes(closing: Function): void {
  if (renewing) return; // a maker's own hub does not renew the keepers it is part of
  renewing = true;
  try {
    const next = kept.slice();
    makers.forEach(({ make, hubClass }, i) => {
      if (hubClass !== null && hubClass !== closing) return;
      try {
        next[i] = make();
      } catch {
        next[i] = null; // it only misses the optimisation
      }
    });
    kept = next;
  } finally {
    renewing = false;
  }
}

/** Whether keepers are being built: a hub built now is one, and takes no hub id. @internal */
export function buildingShapes(): boolean {
  return renewing;
}

/** The keepers held now (for tests). @internal */
export function keptShapes(): readonly unknown[] {
  return kept;
}

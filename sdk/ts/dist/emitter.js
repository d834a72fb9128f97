/**
 * A small typed event emitter: `on` answers a function that unsubscribes.
 * A listener that throws does not stop the others (the error is reported on
 * the console, as a browser does for an event handler).
 */
export class Emitter {
    listeners = new Map();
    on(event, listener) {
        let set = this.listeners.get(event);
        if (!set) {
            set = new Set();
            this.listeners.set(event, set);
        }
        set.add(listener);
        return () => this.off(event, listener);
    }
    once(event, listener) {
        const off = this.on(event, (p) => {
            off();
            listener(p);
        });
        return off;
    }
    off(event, listener) {
        this.listeners.get(event)?.delete(listener);
    }
    emit(event, payload) {
        const set = this.listeners.get(event);
        if (!set)
            return;
        for (const l of Array.from(set)) {
            try {
                l(payload);
            }
            catch (e) {
                console.error(`listener of "${String(event)}" threw`, e);
            }
        }
    }
}

/**
 * A small typed event emitter: `on` answers a function that unsubscribes.
 * A listener that throws does not stop the others (the error is reported on
 * the console, as a browser does for an event handler).
 */
export declare class Emitter<Events extends {
    [K in keyof Events]: unknown;
}> {
    private listeners;
    on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void;
    once<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void;
    off<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): void;
    protected emit<K extends keyof Events>(event: K, payload: Events[K]): void;
}

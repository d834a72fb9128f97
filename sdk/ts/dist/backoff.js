export function backoffDelay(attempt, opts = {}, random = Math.random) {
    const base = opts.baseMs ?? 500;
    const max = opts.maxMs ?? 30_000;
    const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
    return Math.floor(random() * cap);
}

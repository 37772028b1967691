package ai.arbor.structured;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import dk.brics.automaton.Transition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal deterministic automaton over UTF-16 chars in flat arrays, with every transition into a dead state (one
 * from which no accepting state is reachable) dropped: so any state reached is still completable, which is what lets
 * a token mask forbid exactly the tokens that would lead nowhere. Immutable; state 0 is the initial state.
 */
final class CharDfa {
    private final int[] first;  // transitions of state q are [first[q], first[q + 1])
    private final char[] min;
    private final char[] max;
    private final int[] dest;
    private final boolean[] accept;

    private CharDfa(int[] first, char[] min, char[] max, int[] dest, boolean[] accept) {
        this.first = first;
        this.min = min;
        this.max = max;
        this.dest = dest;
        this.accept = accept;
    }

    static CharDfa of(Automaton automaton) {
        Automaton a = automaton.clone();
        a.minimize();
        List<State> states = new ArrayList<>();
        Map<State, Integer> index = new HashMap<>();
        ArrayDeque<State> todo = new ArrayDeque<>();
        index.put(a.getInitialState(), 0);
        states.add(a.getInitialState());
        todo.add(a.getInitialState());
        while (!todo.isEmpty()) {
            for (Transition t : todo.poll().getTransitions()) {
                if (index.putIfAbsent(t.getDest(), states.size()) == null) {
                    states.add(t.getDest());
                    todo.add(t.getDest());
                }
            }
        }
        java.util.Set<State> live = a.getLiveStates();
        int n = states.size();
        int[] first = new int[n + 1];
        List<Transition> all = new ArrayList<>();
        boolean[] accept = new boolean[n];
        for (int q = 0; q < n; q++) {
            State s = states.get(q);
            accept[q] = s.isAccept();
            first[q] = all.size();
            for (Transition t : s.getSortedTransitions(false)) if (live.contains(t.getDest())) all.add(t);
        }
        first[n] = all.size();
        char[] min = new char[all.size()];
        char[] max = new char[all.size()];
        int[] dest = new int[all.size()];
        for (int i = 0; i < all.size(); i++) {
            min[i] = all.get(i).getMin();
            max[i] = all.get(i).getMax();
            dest[i] = index.get(all.get(i).getDest());
        }
        return new CharDfa(first, min, max, dest, accept);
    }

    int numStates() { return accept.length; }

    /** True when the initial state is dead: the constraint matches nothing. */
    boolean isEmpty() { return !accept[0] && first[1] == first[0]; }

    boolean isAccept(int q) { return accept[q]; }

    /** True when nothing can follow state q. */
    boolean isFinal(int q) { return first[q] == first[q + 1]; }

    /** The state after char c, or -1 when c leads nowhere. */
    int step(int q, char c) {
        int lo = first[q], hi = first[q + 1] - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (c < min[mid]) hi = mid - 1;
            else if (c > max[mid]) lo = mid + 1;
            else return dest[mid];
        }
        return -1;
    }

    /** True when some char in [from, to] leads on from state q. */
    boolean anyIn(int q, int from, int to) {
        for (int i = first[q]; i < first[q + 1]; i++) {
            if (min[i] <= to && max[i] >= from) return true;
        }
        return false;
    }

    /** True when some surrogate pair with a high half in [hiFrom, hiTo] leads on from state q. */
    boolean anyPairIn(int q, int hiFrom, int hiTo) {
        for (int i = first[q]; i < first[q + 1]; i++) {
            if (min[i] <= hiTo && max[i] >= hiFrom && anyIn(dest[i], 0xDC00, 0xDFFF)) return true;
        }
        return false;
    }
}

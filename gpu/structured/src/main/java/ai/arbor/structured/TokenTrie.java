package ai.arbor.structured;

import java.util.Arrays;

/**
 * Every token's bytes in one trie (first-child / next-sibling arrays), so a walk against an automaton tests each
 * shared prefix once and drops a whole subtree at the first byte that leads nowhere.
 */
final class TokenTrie {
    final int[] firstChild;
    final int[] nextSibling;
    final byte[] label;
    /** The first token ending at a node, or -1; further tokens with the same bytes chain through {@link #nextToken}. */
    final int[] tokenAt;
    final int[] nextToken;
    final int maxDepth;

    /** Built from the tokens in sorted byte order, so each token only adds the nodes past its common prefix with the last. */
    TokenTrie(byte[][] tokens) {
        Integer[] order = new Integer[tokens.length];
        int count = 0;
        int depth = 0;
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] == null || tokens[id].length == 0) continue;
            order[count++] = id;
            depth = Math.max(depth, tokens[id].length);
        }
        Integer[] sorted = Arrays.copyOf(order, count);
        Arrays.sort(sorted, (a, b) -> Arrays.compareUnsigned(tokens[a], tokens[b]));
        Growable g = new Growable(Math.max(16, count * 2));
        int[] chain = new int[tokens.length];
        Arrays.fill(chain, -1);
        int[] path = new int[depth + 1];
        byte[] prev = new byte[0];
        for (int id : sorted) {
            byte[] b = tokens[id];
            int common = Arrays.mismatch(prev, b);
            if (common < 0) common = b.length;
            int node = path[common];
            for (int k = common; k < b.length; k++) {
                node = g.addChild(node, b[k]);
                path[k + 1] = node;
            }
            chain[id] = g.tokenAt[node];
            g.tokenAt[node] = id;
            prev = b;
        }
        firstChild = Arrays.copyOf(g.firstChild, g.size);
        nextSibling = Arrays.copyOf(g.nextSibling, g.size);
        label = Arrays.copyOf(g.label, g.size);
        tokenAt = Arrays.copyOf(g.tokenAt, g.size);
        nextToken = chain;
        maxDepth = depth;
    }

    /** Node arrays that grow while the trie is built; node 0 is the root. */
    private static final class Growable {
        int[] firstChild;
        int[] lastChild;
        int[] nextSibling;
        byte[] label;
        int[] tokenAt;
        int size = 1;

        Growable(int capacity) {
            firstChild = filled(capacity);
            lastChild = filled(capacity);
            nextSibling = filled(capacity);
            tokenAt = filled(capacity);
            label = new byte[capacity];
        }

        int addChild(int parent, byte b) {
            if (size == label.length) grow();
            int child = size++;
            label[child] = b;
            if (firstChild[parent] < 0) firstChild[parent] = child;
            else nextSibling[lastChild[parent]] = child;
            lastChild[parent] = child;
            return child;
        }

        private void grow() {
            int n = label.length * 2;
            firstChild = grown(firstChild, n);
            lastChild = grown(lastChild, n);
            nextSibling = grown(nextSibling, n);
            tokenAt = grown(tokenAt, n);
            label = Arrays.copyOf(label, n);
        }

        private static int[] filled(int n) {
            int[] a = new int[n];
            Arrays.fill(a, -1);
            return a;
        }

        private static int[] grown(int[] a, int n) {
            int old = a.length;
            a = Arrays.copyOf(a, n);
            Arrays.fill(a, old, n, -1);
            return a;
        }
    }

    int numNodes() { return firstChild.length; }
}

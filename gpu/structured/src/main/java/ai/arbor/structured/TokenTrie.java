package ai.arbor.structured;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

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

    TokenTrie(byte[][] tokens) {
        Map<Long, Integer> edges = new HashMap<>();
        int[] parent = new int[16];
        byte[] lab = new byte[16];
        int[] head = new int[16];
        Arrays.fill(head, -1);
        int nodes = 1;
        int[] chain = new int[tokens.length];
        Arrays.fill(chain, -1);
        int depth = 0;
        for (int id = 0; id < tokens.length; id++) {
            byte[] b = tokens[id];
            if (b == null || b.length == 0) continue;
            depth = Math.max(depth, b.length);
            int node = 0;
            for (byte x : b) {
                long key = ((long) node << 8) | (x & 0xFF);
                Integer child = edges.get(key);
                if (child == null) {
                    if (nodes == parent.length) {
                        parent = Arrays.copyOf(parent, nodes * 2);
                        lab = Arrays.copyOf(lab, nodes * 2);
                        head = Arrays.copyOf(head, nodes * 2);
                        Arrays.fill(head, nodes, nodes * 2, -1);
                    }
                    child = nodes++;
                    parent[child] = node;
                    lab[child] = x;
                    edges.put(key, child);
                }
                node = child;
            }
            chain[id] = head[node];
            head[node] = id;
        }
        firstChild = new int[nodes];
        nextSibling = new int[nodes];
        Arrays.fill(firstChild, -1);
        Arrays.fill(nextSibling, -1);
        for (int n = nodes - 1; n >= 1; n--) {
            nextSibling[n] = firstChild[parent[n]];
            firstChild[parent[n]] = n;
        }
        label = Arrays.copyOf(lab, nodes);
        tokenAt = Arrays.copyOf(head, nodes);
        nextToken = chain;
        maxDepth = depth;
    }

    int numNodes() { return firstChild.length; }
}

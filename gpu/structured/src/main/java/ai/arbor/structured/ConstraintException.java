package ai.arbor.structured;

/**
 * A constraint that cannot be compiled: malformed, or using a schema keyword or regex feature this compiler does not
 * support. {@code where} names the place (a JSON pointer into the schema, or the regex position) so the API can
 * answer a 400 that points at it.
 */
public final class ConstraintException extends IllegalArgumentException {
    private final String where;

    public ConstraintException(String where, String message) {
        super(where == null || where.isEmpty() ? message : message + " (at " + where + ")");
        this.where = where == null ? "" : where;
    }

    /** A JSON pointer into the schema (e.g. {@code /properties/age/minimum}), or empty. */
    public String where() { return where; }
}

package ai.arbor.cluster.serve.overhead;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Sends the request log (one line per request, on by default in {@code arbor serve}) to a file instead of the
 * terminal: the benchmark still pays for every line, as a server does, but not for a terminal scrolling tens of
 * thousands of them.
 */
final class RequestLogToFile {
    private RequestLogToFile() {}

    static void redirect(Path file) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) return;
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(ctx);
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{24} - %msg%n");
        encoder.start();
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(ctx);
        appender.setFile(file.toString());
        appender.setAppend(false);
        appender.setEncoder(encoder);
        appender.start();
        Logger requests = ctx.getLogger("ai.arbor.requests");
        requests.addAppender(appender);
        requests.setAdditive(false);
    }
}

namespace DrWeb.Server.Hosting;

/// <summary>
/// Headers on every response (pages, the API, images, <c>/hangfire</c>): no MIME sniffing, no referrer leaving the
/// site with a case id in its URL, and a content security policy that forbids framing, plugins, foreign form targets
/// and a changed base URL; scripts come only from the app itself (Blazor and MudBlazor work so: the browser tests
/// run under this policy).
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; " +
        "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static void UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers["X-Content-Type-Options"] = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers["X-Frame-Options"] = "DENY";
                headers["Content-Security-Policy"] = ContentSecurityPolicy;
                return Task.CompletedTask;
            });
            await next();
        });
}

using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace DrWeb.Server.Platform;

/// <summary>
/// Every error under <c>/api/</c> as an RFC 7807 problem details document: the requests that never reach an endpoint
/// (unknown route, wrong method, a body too large or not parseable) as much as the ones the endpoints refuse. A client
/// never gets an HTML page or an empty body from the API.
/// </summary>
public static class ApiProblems
{
    public static bool IsApi(HttpContext context) => context.Request.Path.StartsWithSegments("/api");

    public static void UseApiProblems(this IApplicationBuilder app) =>
        app.UseWhen(IsApi, api =>
        {
            api.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteExceptionAsync });
            api.UseStatusCodePages(new StatusCodePagesOptions { HandleAsync = ctx => WriteStatusAsync(ctx.HttpContext) });
        });

    private static Task WriteStatusAsync(HttpContext http)
    {
        int status = http.Response.StatusCode;
        var (title, detail) = status switch
        {
            404 => ("Not found", $"There is no API endpoint {http.Request.Method} {http.Request.Path}. See the README's API sections."),
            405 => ("Method not allowed", $"{http.Request.Path} does not take {http.Request.Method}. See the README's API sections."),
            401 => ("Not signed in", "Send an API token as 'Authorization: Bearer <token>' (issued on the API tokens page)."),
            403 => ("Forbidden", "The token's user does not have a role that may use this endpoint."),
            413 => ("Too large", "The request body is larger than the server accepts."),
            415 => ("Unsupported media type", "Send JSON (application/json) or, for screening, multipart/form-data."),
            400 => ("Bad request", "The request could not be read: check that the body is valid JSON or multipart/form-data with the documented fields."),
            _ => ("Request failed", $"The request ended with status {status}."),
        };
        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(http);
    }

    private static Task WriteExceptionAsync(HttpContext http)
    {
        var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (status, title, detail) = error switch
        {
            BadHttpRequestException { StatusCode: 413 } => (413, "Too large",
                "The request body is larger than the server accepts. Send fewer or smaller images per request."),
            BadHttpRequestException e => (e.StatusCode, "Bad request", $"The request could not be read: {e.Message}"),
            InvalidDataException e => (400, "Malformed form data",
                $"The multipart/form-data body could not be read ({e.Message}). Send each image as a file field, at most 1024 fields."),
            IOException => (400, "Incomplete request", "The request body ended early or could not be read. Send it again."),
            System.Text.Json.JsonException => (400, "Malformed JSON", "The request body is not valid JSON."),
            _ => (500, "Server error", "The server failed on this request; nothing was saved. Try again, and report the reference if it persists."),
        };
        string reference = Guid.NewGuid().ToString("N")[..8];
        if (status >= 500)
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("DrWeb.Api")
                .LogError(error, "API request failed, reference {Reference}", reference);
        return Results.Problem(new ProblemDetails
        {
            Status = status, Title = title, Detail = detail, Extensions = { ["reference"] = reference },
        }).ExecuteAsync(http);
    }
}

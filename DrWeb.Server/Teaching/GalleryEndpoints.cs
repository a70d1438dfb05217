using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;

namespace DrWeb.Server.Teaching;

/// <summary>
/// Gallery images and lesson exports. Gallery images come from the image store only through here, for signed-in
/// educators and admins, and only if a gallery case uses them; a content hash never changes its bytes, so browsers may
/// cache them. Exports are audited.
/// </summary>
public static class GalleryEndpoints
{
    public static void MapGalleryEndpoints(this WebApplication app)
    {
        app.MapGet("/gallery/media/{hash}", async (string hash, int? max, IImageStore store, DisplayImages images, GalleryQueries gallery,
            HttpContext http) =>
        {
            if (!store.Contains(hash) || !await gallery.IsGalleryImageAsync(hash, http.RequestAborted))
                return Results.Problem(statusCode: 404, title: "No such image", detail: "The image is not in the store.");
            int side = Math.Clamp(max ?? DisplayImages.DefaultMaxSide, 32, 2048);
            http.Response.Headers.CacheControl = "private, max-age=86400, immutable";
            var (bytes, contentType) = images.ForDisplay(hash, side);
            return Results.File(bytes, contentType);
        }).RequireAuthorization(p => p.RequireRole(AccountSetup.Educator, AccountSetup.Admin));

        app.MapGet("/gallery/lessons/{id:guid}/export", async (Guid id, LessonExport export, AuditLog audit, HttpContext http) =>
        {
            var html = await export.RenderAsync(id, http.RequestAborted);
            if (html is null)
                return Results.Problem(statusCode: 404, title: "No such lesson", detail: $"There is no lesson {id}.");
            await audit.RecordAsync(AuditAction.LessonExported, http.User.Identity?.Name, id.ToString(), html.Value.FileName,
                http.Connection.RemoteIpAddress?.ToString(), http.RequestAborted);
            return Results.File(System.Text.Encoding.UTF8.GetBytes(html.Value.Html), "text/html; charset=utf-8", html.Value.FileName);
        }).RequireAuthorization(p => p.RequireRole(AccountSetup.Educator, AccountSetup.Admin));
    }
}

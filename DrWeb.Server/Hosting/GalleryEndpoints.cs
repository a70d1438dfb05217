using DrWeb.Server.Services;

namespace DrWeb.Server.Hosting;

/// <summary>
/// Gallery images and lesson exports. Images come from the image store only through here, for signed-in educators
/// and admins; a content hash never changes its bytes, so browsers may cache them.
/// </summary>
public static class GalleryEndpoints
{
    public static void MapGalleryEndpoints(this WebApplication app)
    {
        app.MapGet("/gallery/media/{hash}", (string hash, int? max, ImageStore store, DisplayImages images, HttpContext http) =>
        {
            if (!store.Contains(hash))
                return Results.Problem(statusCode: 404, title: "No such image", detail: "The image is not in the store.");
            int side = Math.Clamp(max ?? DisplayImages.DefaultMaxSide, 32, 2048);
            http.Response.Headers.CacheControl = "private, max-age=86400, immutable";
            var (bytes, contentType) = images.ForDisplay(hash, side);
            return Results.File(bytes, contentType);
        }).RequireAuthorization(p => p.RequireRole(AccountSetup.Educator, AccountSetup.Admin));

        app.MapGet("/gallery/lessons/{id:guid}/export", async (Guid id, LessonExport export, HttpContext http) =>
        {
            var html = await export.RenderAsync(id, http.RequestAborted);
            return html is null
                ? Results.Problem(statusCode: 404, title: "No such lesson", detail: $"There is no lesson {id}.")
                : Results.File(System.Text.Encoding.UTF8.GetBytes(html.Value.Html), "text/html; charset=utf-8", html.Value.FileName);
        }).RequireAuthorization(p => p.RequireRole(AccountSetup.Educator, AccountSetup.Admin));
    }
}

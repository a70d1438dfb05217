using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using DrWeb.Ml.Data;
using DrWeb.Server.Platform;

namespace DrWeb.Server.Teaching;

/// <summary>
/// A lesson as one self-contained HTML file: every photograph and overlay embedded as a data URL, the styles and the
/// few lines of script inline, so it opens offline from a USB stick in any browser. Answers stay hidden until revealed.
/// </summary>
public sealed class LessonExport(Lessons lessons, DisplayImages images)
{
    public async Task<(string Html, string FileName)?> RenderAsync(Guid lessonId, CancellationToken token = default)
    {
        var lesson = await lessons.GetAsync(lessonId, token);
        if (lesson is null) return null;
        var html = HtmlEncoder.Default;
        int exported = lesson.Items.Count(i => i.Case is not null), atlas = lesson.Items.Count - exported;
        var page = new StringBuilder();
        page.Append($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{html.Encode(lesson.Title)}}</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:0;background:#111;color:#eee}
            header{padding:1rem 2rem} section{display:none;padding:1rem 2rem} section.current{display:block}
            .images{display:flex;gap:1rem;flex-wrap:wrap} .images figure{margin:0} .images img{max-width:420px;width:100%;border-radius:6px}
            .answer{display:none;margin-top:1rem} section.revealed .answer{display:block}
            button{font-size:1rem;padding:.4rem 1rem;margin-right:.5rem} .bar{background:#2a6fdb;height:.8rem;display:inline-block}
            table{border-collapse:collapse} td{padding:.1rem .5rem}
            </style></head><body>
            <header><h1>{{html.Encode(lesson.Title)}}</h1><p>{{html.Encode(lesson.Notes ?? "")}}</p>
            <p>{{exported}} cases. Keys: ← → to move, space to reveal.{{(atlas > 0 ? $" ({atlas} lesion atlas photograph{(atlas == 1 ? " is" : "s are")} presented from the server only.)" : "")}}</p></header>
            """);
        int n = 0;
        foreach (var item in lesson.Items.Where(i => i.Case is not null))
        {
            var c = item.Case!;
            n++;
            page.Append(CultureInfo.InvariantCulture, $"""
                <section data-case="{n}"{(n == 1 ? " class=\"current\"" : "")}>
                <h2>Case {n} of {exported}</h2>
                <div class="images"><figure><img alt="Photograph" src="{images.DataUrl(c.ImageHash)}"><figcaption>What grade is this?</figcaption></figure></div>
                <p>{html.Encode(item.Notes ?? "")}</p>
                <button onclick="reveal()">Reveal</button>
                <div class="answer">
                <p><b>True grade:</b> {c.TrueGrade} ({DrGrade.Name(c.TrueGrade)}) · <b>Model:</b> {c.PredictedGrade} ({DrGrade.Name(c.PredictedGrade)}){(c.Correct ? "" : " — wrong")}</p>
                {(c.QualityVerdict is { } verdict ? $"<p><b>Image quality:</b> {html.Encode(verdict)}{(c.QualityReasons is { } why ? " — " + html.Encode(why.Replace('\n', ' ')) : "")}</p>" : "")}
                <div class="images">
                {(c.ModelViewHash is { } view ? $"<figure><img alt=\"What the model saw\" src=\"{images.DataUrl(view)}\"><figcaption>What the model saw: {html.Encode(c.ModelViewNote ?? "")}</figcaption></figure>" : "")}
                <figure><img alt="Heatmap for the model's grade" src="{images.DataUrl(c.HeatmapPredictedHash)}"><figcaption>Where the model looked for grade {c.PredictedGrade}</figcaption></figure>
                {(c.Correct ? "" : $"<figure><img alt=\"Heatmap for the true grade\" src=\"{images.DataUrl(c.HeatmapTrueHash)}\"><figcaption>…and for the true grade {c.TrueGrade}</figcaption></figure>")}
                </div>
                <table>{string.Concat(Enumerable.Range(0, DrGrade.Count).Select(g => $"<tr><td>{g} {DrGrade.Name(g)}</td><td><span class=\"bar\" style=\"width:{c.Probabilities[g] * 200:0}px\"></span> {c.Probabilities[g]:0.000}</td></tr>"))}</table>
                </div></section>
                """);
        }
        page.Append("""
            <script>
            const cases=[...document.querySelectorAll('section')];let at=0;
            function show(i){if(i<0||i>=cases.length)return;cases[at].classList.remove('current');at=i;cases[at].classList.add('current');}
            function reveal(){cases[at].classList.add('revealed');}
            document.addEventListener('keydown',e=>{if(e.key==='ArrowRight')show(at+1);else if(e.key==='ArrowLeft')show(at-1);else if(e.key===' '){e.preventDefault();reveal();}});
            </script></body></html>
            """);
        string fileName = new string(lesson.Title.Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '-').ToArray()).Trim('-');
        return (page.ToString(), $"{(fileName.Length == 0 ? "lesson" : fileName)}.html");
    }
}

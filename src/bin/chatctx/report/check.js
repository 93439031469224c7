// The report checks itself when it is opened: every chart drew every series it declares
// (found by colour, in drawing order, with as many points as the data has), and the page
// fetched nothing. The verdict goes into <html data-check> and the line #check.
(function () {
  "use strict";
  var problems = [];
  var charts = 0;
  var series = 0;
  var figures = document.querySelectorAll("figure[data-series]");
  Array.prototype.forEach.call(figures, function (figure) {
    var name = figure.getAttribute("data-chart");
    var svg = figure.querySelector("svg");
    if (!svg) {
      problems.push(name + ": no svg");
      return;
    }
    charts += 1;
    var expected = JSON.parse(figure.getAttribute("data-series"));
    var queues = {};
    var take = function (tag, attribute, color) {
      var key = tag + color;
      if (!queues[key]) {
        queues[key] = Array.prototype.filter.call(svg.querySelectorAll(tag), function (el) {
          return (el.getAttribute(attribute) || "").toUpperCase() === color;
        });
      }
      return queues[key];
    };
    expected.forEach(function (s) {
      series += 1;
      var where = name + " panel " + (s.panel + 1) + " " + s.label;
      if (s.kind === "marks") {
        var marks = take("circle", "fill", s.color).splice(0, s.points);
        if (marks.length !== s.points) {
          problems.push(where + ": " + marks.length + " of " + s.points + " marks");
        }
        return;
      }
      var tag = s.kind === "area" ? "polygon" : "polyline";
      var el = take(tag, s.kind === "area" ? "fill" : "stroke", s.color).shift();
      if (!el) {
        problems.push(where + ": no " + tag);
        return;
      }
      var count = el.points.numberOfItems;
      // an area is its data points closed down to the baseline
      var want = s.kind === "area" ? s.points + 2 : s.points;
      if (count !== want) {
        problems.push(where + ": " + count + " points, " + want + " expected");
      }
      var box = el.getBBox();
      if (s.points > 1 && !(box.width > 0)) {
        problems.push(where + ": drawn with no width");
      }
    });
    Object.keys(queues).forEach(function (key) {
      if (queues[key].length > 0) {
        problems.push(name + ": " + queues[key].length + " undeclared " + key);
      }
    });
  });
  if (charts === 0) {
    problems.push("no chart");
  }
  var fetched = performance.getEntriesByType("resource").length;
  if (fetched > 0) {
    problems.push(fetched + " resources fetched");
  }
  var linked = document.querySelectorAll("[src], [href], link, img, iframe, object, embed").length;
  if (linked > 0) {
    problems.push(linked + " elements refer to other resources");
  }
  var verdict = problems.length === 0 ? "ok" : "failed";
  document.documentElement.setAttribute("data-check", verdict);
  document.getElementById("check").textContent =
    "check " + verdict + ": " + charts + " charts, " + series + " series, " + fetched +
    " resources fetched" + (problems.length ? "; " + problems.join("; ") : "");
})();

// The front page: the job form and the job list.

import { JobForm } from "./form.js";
import { JobList } from "./joblist.js";

new JobForm(document.getElementById("job-form"));
new JobList(document.getElementById("jobs"), document.getElementById("compare")).start();
